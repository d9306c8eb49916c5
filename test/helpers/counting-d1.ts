/**
 * A D1 binding that counts what reaches the database: every statement run alone and every batch
 * (one call each, as a Worker invocation's query limit counts them), and the statements batches held.
 */
export interface CountingD1 {
  d1: D1Database
  readonly calls: number
  readonly statements: number
}

export function countingD1(inner: D1Database): CountingD1 {
  let calls = 0
  let statements = 0
  const RUNS = new Set(['first', 'all', 'run', 'raw'])
  const raw = new WeakMap<object, D1PreparedStatement>()
  const wrapStatement = (s: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop)
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args))
        if (typeof prop === 'string' && RUNS.has(prop) && typeof value === 'function')
          return (...args: unknown[]) => {
            calls++
            statements++
            return value.apply(target, args)
          }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    raw.set(proxy, s)
    return proxy
  }
  const d1 = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'prepare') return (query: string) => wrapStatement(target.prepare(query))
      if (prop === 'batch')
        return (list: D1PreparedStatement[]) => {
          calls++
          statements += list.length
          return target.batch(list.map((s) => raw.get(s) ?? s))
        }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    d1,
    get calls() {
      return calls
    },
    get statements() {
      return statements
    },
  }
}
