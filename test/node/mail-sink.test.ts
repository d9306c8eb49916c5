/** The dev mail sink: the three provider shapes, GET/DELETE /messages, and injected failures. */
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { startMailSink } from '../../src/dev/mail-sink.ts'

const sink = await startMailSink({ port: 0, log: false })
afterAll(() => sink.close())
beforeEach(() => fetch(`${sink.url}/messages`, { method: 'DELETE' }))

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sink.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe('mail sink', () => {
  test('Resend, Postmark and SendGrid bodies become the same message shape', async () => {
    const resend = await post(
      '/emails',
      {
        from: 'a@x',
        to: ['bob@example.com'],
        subject: 'Join',
        text: 'Accept: http://127.0.0.1:8787/invite/t1.',
        html: '<a href="http://127.0.0.1:8787/invite/t1">go</a>',
      },
      { Authorization: 'Bearer key', 'Idempotency-Key': 'inv-1' },
    )
    expect(resend.status).toBe(200)
    expect(await resend.json()).toEqual({ id: expect.any(String) })
    expect(
      (
        await post('/email', {
          From: 'a@x',
          To: 'c@x, d@x',
          Subject: 'PM',
          HtmlBody: '<a href="https://e.x/y?a=1&amp;b=2">x</a>',
        })
      ).status,
    ).toBe(200)
    const sendgrid = await post('/v3/mail/send', {
      personalizations: [{ to: [{ email: 'e@x' }], subject: 'SG' }],
      from: { email: 'a@x' },
      content: [{ type: 'text/plain', value: 'see https://sg.x/1' }],
    })
    expect(sendgrid.status).toBe(202)

    const messages = await (await fetch(`${sink.url}/messages`)).json()
    expect(messages).toMatchObject([
      {
        provider: 'resend',
        to: 'bob@example.com',
        subject: 'Join',
        link: 'http://127.0.0.1:8787/invite/t1',
        headers: { authorization: 'Bearer key', 'idempotency-key': 'inv-1' },
      },
      { provider: 'postmark', to: 'c@x, d@x', subject: 'PM', text: '', link: 'https://e.x/y?a=1&b=2' },
      { provider: 'sendgrid', to: 'e@x', subject: 'SG', text: 'see https://sg.x/1', link: 'https://sg.x/1' },
    ])
    expect(sink.messages).toHaveLength(3)
  })

  test('DELETE /messages clears; bad bodies are 4xx; failNext answers with the status asked for', async () => {
    await post('/emails', { to: 'x@y', subject: 's', text: 't' })
    expect((await fetch(`${sink.url}/messages`, { method: 'DELETE' })).status).toBe(200)
    expect(sink.messages).toHaveLength(0)
    expect((await fetch(`${sink.url}/emails`, { method: 'POST', body: 'not json' })).status).toBe(400)
    expect((await post('/emails', { subject: 'no recipient' })).status).toBe(422)
    sink.failNext(503, 2)
    expect((await post('/emails', { to: 'x@y' })).status).toBe(503)
    expect((await post('/emails', { to: 'x@y' })).status).toBe(503)
    expect((await post('/emails', { to: 'x@y' })).status).toBe(200)
    expect((await post('/_fail', { status: 429 })).status).toBe(200)
    expect((await post('/emails', { to: 'x@y' })).status).toBe(429)
    expect(sink.messages).toHaveLength(1)
  })
})
