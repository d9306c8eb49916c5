/** The filter AST of RFC 7644 §3.4.2.2, shared by filters, PATCH paths (§3.5.2) and the SQL compiler. */

/** An attribute path as written: `userName`, `name.givenName`, `urn:...:User:department`. Names keep the client's case. */
export interface AttrPath {
  urn?: string
  attr: string
  sub?: string
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'

/** A comparison value: JSON string, number, true, false or null (RFC 7644 §3.4.2.2 "compValue"). */
export type CompValue = string | number | boolean | null

export type Filter =
  | { op: CompareOp; path: AttrPath; value: CompValue }
  | { op: 'pr'; path: AttrPath }
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  /** `emails[type eq "work" and value co "@x"]`: inner paths name sub-attributes of `path` (as their `attr`). */
  | { op: 'valuePath'; path: AttrPath; filter: Filter }

/** A PATCH path (RFC 7644 §3.5.2 "PATH"): `attr`, `attr.sub`, `urn:attr`, `attr[filter]`, `attr[filter].sub`. */
export interface PatchPath {
  path: AttrPath
  /** The value filter inside brackets; its paths name sub-attributes of `path`. */
  filter?: Filter
  /** The sub-attribute after the brackets (`.value` in `emails[type eq "work"].value`). */
  subAfterFilter?: string
}

/** Renders a path as written in a filter: `urn:...:attr.sub` (RFC 7644 §3.10). */
export function formatPath(path: AttrPath): string {
  return `${path.urn ? `${path.urn}:` : ''}${path.attr}${path.sub !== undefined ? `.${path.sub}` : ''}`
}

// Binding strength for rendering: or < and < not/atoms (RFC 7644 §3.4.2.2 precedence).
const PRECEDENCE = { or: 1, and: 2 } as const

/** Renders a filter in canonical form (lower-case operators, JSON values, minimal parentheses), RFC 7644 §3.4.2.2. */
export function formatFilter(filter: Filter, outer = 0): string {
  switch (filter.op) {
    case 'and':
    case 'or': {
      const own = PRECEDENCE[filter.op]
      // The right operand of a same-op chain keeps its parentheses so the tree shape round-trips.
      const text = `${formatFilter(filter.left, own)} ${filter.op} ${formatFilter(filter.right, own + 0.5)}`
      return own < outer ? `(${text})` : text
    }
    case 'not':
      return `not (${formatFilter(filter.filter)})`
    case 'pr':
      return `${formatPath(filter.path)} pr`
    case 'valuePath':
      return `${formatPath(filter.path)}[${formatFilter(filter.filter)}]`
    default:
      return `${formatPath(filter.path)} ${filter.op} ${JSON.stringify(filter.value)}`
  }
}
