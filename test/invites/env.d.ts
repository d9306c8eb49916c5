declare global {
  namespace Cloudflare {
    interface Env {
      /** test/mail-hub.ts: POST {MAIL_HUB_URL}/sinks gives a test its own mail server. */
      MAIL_HUB_URL: string
    }
  }
}
export {}
