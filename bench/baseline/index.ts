/**
 * The limit that bench/run.ts compares scim-edge with: a bare Hono + D1 Worker that answers one
 * indexed point query (the users primary key, tenant_id then id) and returns the stored resource as
 * is. No auth, no drizzle, no SCIM representation: what the stack costs before scim-edge adds anything.
 */
import { Hono } from 'hono'

interface BaselineEnv {
  DB: D1Database
}

const app = new Hono<{ Bindings: BaselineEnv }>()

app.get('/u/:tenant/:id', async (c) => {
  const row = await c.env.DB.prepare('SELECT resource FROM users WHERE tenant_id = ? AND id = ?')
    .bind(c.req.param('tenant'), c.req.param('id'))
    .first<{ resource: string }>()
  if (!row) return c.json({ error: 'not found' }, 404)
  return c.body(row.resource, 200, { 'Content-Type': 'application/json' })
})

export default app
