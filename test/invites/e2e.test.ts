/**
 * End to end through the Worker's own faces and the real queue: SCIM create -> the queue consumer
 * mails the shared sink (test/mail-hub.ts) -> the link -> accept -> canSignIn true -> SCIM
 * deactivate -> canSignIn false and the link is dead -> reactivate -> no new invite for a joined user.
 */
import { SELF, env } from 'cloudflare:test'
import { expect, it } from 'vitest'
import { invitesOfUser } from '../../src/db/invites.ts'
import { newTenant } from '../helpers/tenant.ts'
import { PATCH, USER, eventually, sharedSinkMessages } from './helpers.ts'
import { scopeOf } from '../helpers/scope.ts'

const APP = { authorization: `Bearer ${env.TEST_APP_KEY}` }

async function access(tenantId: string, email: string) {
  const res = await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenantId}/access?email=${encodeURIComponent(email)}`, {
    headers: APP,
  })
  expect(res.status).toBe(200)
  return res.json()
}

it('an IdP-assigned person goes from invite mail to signed in, and offboarding kills access and the link', {
  timeout: 60_000,
}, async () => {
  const tenant = await newTenant({ name: 'Acme Corp', appUrl: 'https://app.example.com/welcome' })
  const email = `grace-${tenant.id}@example.com`
  const created = await tenant.fetch('/Users', {
    method: 'POST',
    json: {
      schemas: [USER],
      userName: email,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: email, primary: true }],
    },
  })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: string }
  expect(await access(tenant.id, email)).toEqual({ allowed: false, state: 'provisioned', userId: id })

  const [mail] = await eventually(async () => {
    const found = await sharedSinkMessages(email)
    return found.length ? found : undefined
  }, 'the invite mail')
  expect(mail!.subject).toBe('Acme Corp invited you to Demo App')
  const link = mail!.link!
  // The token travels in the fragment, which no request (so no request log) carries.
  expect(link.startsWith(`${env.PUBLIC_URL}/invite#`)).toBe(true)
  const token = link.slice(link.indexOf('#') + 1)
  const form = (path: string) =>
    SELF.fetch(`${env.PUBLIC_URL}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    })
  expect(
    await eventually(
      async () => ((await access(tenant.id, email)) as { state: string }).state === 'invited' || undefined,
      'state invited',
    ),
  ).toBe(true)

  const page = await form('/invite/status')
  expect(page.status).toBe(200)
  const html = await page.text()
  expect(html).toContain('Acme Corp')
  expect(html).toContain('Grace Hopper'.split(' ')[0])

  const accepted = await form('/invite/accept')
  expect(accepted.status).toBe(303)
  expect(accepted.headers.get('location')).toBe('https://app.example.com/welcome')
  expect(await access(tenant.id, email)).toEqual({ allowed: true, state: 'joined', userId: id })

  const off = await tenant.fetch(`/Users/${id}`, {
    method: 'PATCH',
    json: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] },
  })
  expect(off.status).toBe(200)
  expect(await access(tenant.id, email)).toEqual({ allowed: false, state: 'deactivated', userId: id })
  const dead = await form('/invite/status')
  expect(dead.status).toBe(403)
  expect(await dead.text()).toContain('Your access has been turned off')

  const on = await tenant.fetch(`/Users/${id}`, {
    method: 'PATCH',
    json: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] },
  })
  expect(on.status).toBe(200)
  expect(await access(tenant.id, email)).toEqual({ allowed: true, state: 'joined', userId: id })
  expect((await invitesOfUser(scopeOf(tenant), id)).map((i) => i.state)).toEqual(['accepted'])
  // Give a stray message time to arrive: still one mail.
  await new Promise((r) => setTimeout(r, 1500))
  expect(await sharedSinkMessages(email)).toHaveLength(1)
})

it('a person created with active:false gets the mail only once activated', { timeout: 60_000 }, async () => {
  const tenant = await newTenant()
  const email = `later-${tenant.id}@example.com`
  const created = await tenant.fetch('/Users', {
    method: 'POST',
    json: { schemas: [USER], userName: email, active: false, emails: [{ value: email }] },
  })
  const { id } = (await created.json()) as { id: string }
  await new Promise((r) => setTimeout(r, 1500))
  expect(await sharedSinkMessages(email)).toHaveLength(0)
  await tenant.fetch(`/Users/${id}`, {
    method: 'PATCH',
    json: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }] },
  })
  await eventually(async () => ((await sharedSinkMessages(email)).length === 1 ? true : undefined), 'the invite mail')
})
