/** Verifies an access token the way a relying party would: with the published JWKS alone. */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'

export async function verifyAccessTokenWith(jwks: unknown, token: string): Promise<Record<string, unknown>> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as JSONWebKeySet), {
    typ: 'at+jwt',
  })
  return { ...payload, alg: protectedHeader.alg }
}
