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
