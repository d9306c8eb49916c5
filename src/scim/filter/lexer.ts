/** Tokens of the filter and PATCH path grammars, RFC 7644 §3.4.2.2 and §3.5.2. */
import { InvalidFilter } from '../errors.ts'

/** Token kinds of the RFC 7644 §3.4.2.2 grammar: words (paths, operators, literals), JSON strings and numbers, brackets. */
export type TokenKind = 'word' | 'string' | 'number' | '(' | ')' | '[' | ']' | '.' | 'end'

/** One token; `pos` is the 1-based character position, so error details can point at it. */
export interface Token {
  kind: TokenKind
  /** The source text of the token. */
  text: string
  /** The decoded value of a string or number token. */
  value?: string | number
  pos: number
}

// A word is an attribute path (with URN prefix and dotted sub-attribute), an operator or a
// literal. `$` allows `$ref`; `:` and `.` allow `urn:ietf:...:2.0:User:manager.value`.
const WORD_START = /[A-Za-z$]/
const WORD_PART = /[A-Za-z0-9$_:.\-]/
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

/** Shows a token in an InvalidFilter detail (RFC 7644 §3.12). */
export function describe(token: Token): string {
  return token.kind === 'end' ? 'end of filter' : `"${token.text}"`
}

/** Splits a filter into tokens (RFC 7644 §3.4.2.2); throws InvalidFilter with the position of bad input. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    // RFC 7644 asks for SP; tabs and newlines are tolerated so pasted filters work.
    if (/\s/.test(ch)) {
      i++
      continue
    }
    const pos = i + 1
    if (ch === '(' || ch === ')' || ch === '[' || ch === ']' || ch === '.') {
      tokens.push({ kind: ch, text: ch, pos })
      i++
    } else if (ch === '"') {
      const end = stringEnd(text, i)
      const raw = text.slice(i, end)
      let value: string
      try {
        value = JSON.parse(raw) as string
      } catch {
        throw new InvalidFilter(`invalid string ${raw} at position ${pos}: use JSON escapes (\\" \\\\ \\n \\uXXXX)`)
      }
      tokens.push({ kind: 'string', text: raw, value, pos })
      i = end
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      const after = m ? text[i + m[0].length] : undefined
      if (!m || (after !== undefined && WORD_PART.test(after))) {
        const bad = text.slice(i).match(/^[^\s()[\]]+/)?.[0] ?? ch
        throw new InvalidFilter(`invalid number "${bad}" at position ${pos}`)
      }
      tokens.push({ kind: 'number', text: m[0], value: Number(m[0]), pos })
      i += m[0].length
    } else if (WORD_START.test(ch)) {
      let end = i + 1
      while (end < text.length && WORD_PART.test(text[end] as string)) end++
      // A trailing dot belongs to the next token only after "]"; inside a word it is an error the parser reports.
      tokens.push({ kind: 'word', text: text.slice(i, end), pos })
      i = end
    } else {
      const hint = ch === "'" ? '; strings take double quotes' : ''
      throw new InvalidFilter(`unexpected character "${ch}" at position ${pos}${hint}`)
    }
  }
  tokens.push({ kind: 'end', text: '', pos: text.length + 1 })
  return tokens
}

/** The index just after the closing quote of the string that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1
  while (i < text.length) {
    const ch = text[i]
    if (ch === '\\') i += 2
    else if (ch === '"') return i + 1
    else i++
  }
  throw new InvalidFilter(`unterminated string starting at position ${start + 1}`)
}
