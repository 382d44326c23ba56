// jose verifying an access token through the metadata's jwks_uri (createRemoteJWKSet), as an
// API behind the portal would. Prints the verified header and payload as JSON.
// Usage: node jose_remote_jwks.mjs ISSUER TOKEN [AUDIENCE]
import { createRemoteJWKSet, jwtVerify } from "jose";

const [issuer, token, audience] = process.argv.slice(2);
const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
const keys = createRemoteJWKSet(new URL(metadata.jwks_uri));
const { payload, protectedHeader } = await jwtVerify(token, keys, {
  issuer: metadata.issuer,
  audience: audience || metadata.issuer,
  typ: "at+jwt",
});
process.stdout.write(JSON.stringify({ header: protectedHeader, payload }));
