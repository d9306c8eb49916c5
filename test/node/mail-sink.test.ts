/**
 * The dev mail sink: the three provider shapes, GET/DELETE /messages, injected failures, and its pages
 * over plain HTTP (test/node/mail-sink-page.test.ts opens them in Chromium).
 */
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

  test('GET / lists mail newest first as a page; an empty sink says how mail gets there', async () => {
    const empty = await fetch(`${sink.url}/`)
    expect(empty.status).toBe(200)
    expect(empty.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(empty.headers.get('content-security-policy')).toContain("default-src 'none'")
    const emptyHtml = await empty.text()
    expect(emptyHtml).toContain('<h1>No mail yet</h1>')
    expect(emptyHtml).toContain(`<code>${sink.url}/emails</code>`)

    await post('/emails', { to: 'first@x', subject: 'Older', text: 't' })
    await post('/emails', { to: '"Eve" <eve@x>', subject: '<script>alert(1)</script>', text: 't' })
    const html = await (await fetch(`${sink.url}/`)).text()
    expect(html).not.toContain('No mail yet')
    expect(html).not.toContain('<script')
    const [newer, older] = sink.messages.slice().reverse()
    expect(html).toContain(
      `<tr><td>&quot;Eve&quot; &lt;eve@x&gt;</td><td><a href="/messages/${newer!.id}">&lt;script&gt;alert(1)&lt;/script&gt;</a></td>`,
    )
    expect(html.indexOf(`/messages/${newer!.id}`)).toBeLessThan(html.indexOf(`/messages/${older!.id}`))
    expect(html).toContain(`<time datetime="${older!.receivedAt}">`)
  })

  test('GET /messages/{id} is a page for a browser and JSON otherwise; /messages stays JSON', async () => {
    await post('/emails', {
      from: 'Demo <noreply@demo.example>',
      to: 'ada@x',
      subject: 'Join "Demo" & more',
      text: 'Accept: http://127.0.0.1:8787/invite#tok&en',
      html: '<p>Hi</p><script>parent.alert(1)</script><a href="http://127.0.0.1:8787/invite#tok&amp;en">Accept</a>',
      headers: { 'X-Entity-Ref-ID': 'inv-9' },
    })
    const [message] = sink.messages
    const browser = { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } }
    const page = await fetch(`${sink.url}/messages/${message!.id}`, browser)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await page.text()
    expect(html).toContain('<h1>Join &quot;Demo&quot; &amp; more</h1>')
    expect(html).toContain('<dt>From</dt><dd>Demo &lt;noreply@demo.example&gt;</dd>')
    expect(html).toContain('<dt>X-Entity-Ref-ID</dt><dd>inv-9</dd>')
    expect(html).toContain(
      'First link: <a href="http://127.0.0.1:8787/invite#tok&amp;en">http://127.0.0.1:8787/invite#tok&amp;en</a>',
    )
    // The HTML body only inside a sandboxed frame (no allow-scripts), as an escaped attribute.
    expect(html).toContain(
      'sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="&lt;base target=&quot;_blank&quot;&gt;&lt;p&gt;Hi',
    )
    expect(html).not.toContain('<script')
    expect(html).toContain('<pre>Accept: http://127.0.0.1:8787/invite#tok&amp;en</pre>')
    expect(html).not.toContain('authorization')

    const json = await fetch(`${sink.url}/messages/${message!.id}`)
    expect(json.headers.get('content-type')).toBe('application/json')
    expect(await json.json()).toMatchObject({ id: message!.id, subject: 'Join "Demo" & more' })
    const list = await fetch(`${sink.url}/messages`, browser)
    expect(list.headers.get('content-type')).toBe('application/json')
    expect(await list.json()).toHaveLength(1)
  })

  test('unknown messages and addresses are clear 404s, as a page or as JSON; /signed-in escapes its parameters', async () => {
    const browser = { headers: { accept: 'text/html' } }
    for (const id of ['sink-999', '%3Cb%3Ex', '%E0%A4%A']) {
      const page = await fetch(`${sink.url}/messages/${id}`, browser)
      expect(page.status).toBe(404)
      const html = await page.text()
      expect(html).toContain('<h1>Not found</h1>')
      expect(html).toMatch(/There is no message (sink-999|&lt;b&gt;x|%E0%A4%A) \(it may have been cleared\)\./)
      expect(html).not.toMatch(/<b>|at .*\.ts:\d+/)
      const json = await fetch(`${sink.url}/messages/${id}`)
      expect(json.status).toBe(404)
      expect(await json.json()).toMatchObject({ statusCode: 404, message: expect.stringMatching(/^no message /) })
    }
    const nowhere = await fetch(`${sink.url}/nowhere`, browser)
    expect(nowhere.status).toBe(404)
    expect(await nowhere.text()).toContain('Nothing is at /nowhere.')
    expect((await fetch(`${sink.url}/nowhere`)).headers.get('content-type')).toBe('application/json')

    const signedIn = await fetch(`${sink.url}/signed-in?from=invite&who=%3Cb%3Eme%3C/b%3E`)
    expect(signedIn.status).toBe(200)
    const html = await signedIn.text()
    expect(html).toContain("<h1>You're in</h1>")
    expect(html).toContain('<dt>from</dt><dd>invite</dd><dt>who</dt><dd>&lt;b&gt;me&lt;/b&gt;</dd>')
    expect(await (await fetch(`${sink.url}/signed-in`)).text()).toContain('The redirect carried no query parameters.')
  })
})
