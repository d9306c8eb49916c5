/** Structured JSON logs: one object a line, with the request id; no secrets, personal data only as ids. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** Writes one log line. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, at: new Date().toISOString(), ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}
