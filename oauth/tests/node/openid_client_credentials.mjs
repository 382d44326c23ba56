// openid-client (oauth4webapi underneath), used as its documentation shows: RFC 8414 discovery
// of the issuer, then the client-credentials grant. Prints the token response as JSON.
// Usage: node openid_client_credentials.mjs ISSUER CLIENT_ID CLIENT_SECRET [SCOPE]
import * as client from "openid-client";

const [issuer, clientId, clientSecret, scope] = process.argv.slice(2);
// The test's live server speaks plain HTTP; openid-client refuses it unless told.
const options = { algorithm: "oauth2", execute: [client.allowInsecureRequests] };
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, options);
const parameters = scope ? { scope } : {};
const tokens = await client.clientCredentialsGrant(config, parameters);
process.stdout.write(JSON.stringify({ ...tokens, server_issuer: config.serverMetadata().issuer }));
