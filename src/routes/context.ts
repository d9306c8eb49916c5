/** Hono's typing of our bindings and per-request variables: each sub-app says only what is set there. */
import type { Context } from 'hono'
import type { Env } from '../runtime/env.ts'
import type { Scope } from '../scope/scope.ts'

/** Every request: its id. A sub-app that serves a tenant has put the scope there by the time the response goes out. */
export interface RootEnv {
  Bindings: Env
  Variables: { requestId: string; scope?: Scope }
}

/** The SCIM sub-app and the app API: the request is authenticated and its scope is built. */
export interface ScopedEnv {
  Bindings: Env
  Variables: { requestId: string; scope: Scope }
}

/** Pages for people (the invite page): no tenant until the token names one. */
export interface PageEnv {
  Bindings: Env
  Variables: { requestId: string }
}

export type RootContext = Context<RootEnv>
export type ScopedContext = Context<ScopedEnv>
export type PageContext = Context<PageEnv>
