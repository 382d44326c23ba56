"""A real SAML 2.0 identity provider for the SSO tests: pysaml2's Server, served by wsgiref on a
loopback port. Run by Debian's python3 with Debian's python3-pysaml2 (`make saml-idp`), outside
the portal's virtualenv: that pysaml2 comes with a pyOpenSSL that the venv's cryptography
release has outgrown. Signs with the xmlsec1 program.

    python3 saml_idp.py CONFIG.json

CONFIG: {"port", "key_file", "cert_file", "other_key_file", "other_cert_file", "people_file"}.
The people file ({email: {"groups", "acr", "mode"}}, rewritten by each test) says who may sign
in, their groups, the AuthnContextClassRef of their login, and how the answer misbehaves on
purpose (`mode`): "error" (status AuthnFailed), "wrong_audience", "unsigned", "wrong_key",
"unsolicited" (answers no request: an IdP-initiated sign-in), or "normal". Pages:

    GET  /metadata                     the IdP's metadata
    GET  /sso/redirect?SAMLRequest=... a login form (HTTP-Redirect binding)
    POST /login                        email=..., key=...: the response, posted back to the
                                       service provider's ACS by a self-submitting form
"""

import base64
import html
import json
import secrets
import sys
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from saml2 import BINDING_HTTP_REDIRECT, samlp, xmldsig
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

ATTRIBUTE_MAP = """MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
    "fro": {"email": "email", "groups": "groups"},
    "to": {"email": "email", "groups": "groups"},
}
"""


class TestServer(Server):
    """pysaml2's IdP without the service providers' metadata: it answers to the assertion
    consumer service the request names, and never encrypts (it knows no SP's key)."""

    def has_encrypt_cert_in_metadata(self, sp_entity_id) -> bool:
        return False


def server_for(base: str, key_file: str, cert_file: str, map_dir: str) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": key_file,
            "cert_file": cert_file,
            "attribute_map_dir": map_dir,
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_BASIC}},
                }
            },
        }
    )
    return TestServer(config=config)


class Idp:
    def __init__(self, config: dict) -> None:
        self.base = f"http://127.0.0.1:{config['port']}"
        self.people_file = config["people_file"]
        map_dir = config["map_dir"]
        self.server = server_for(self.base, config["key_file"], config["cert_file"], map_dir)
        # The same entity with another key: a response "signed" by someone else.
        self.impostor = server_for(self.base, config["other_key_file"], config["other_cert_file"], map_dir)
        self.pending: dict[str, dict] = {}

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/metadata":
            xml = str(entity_descriptor(self.server.config))
            return self.answer(start_response, "200 OK", xml, "text/xml")
        if path == "/sso/redirect" and method == "GET":
            return self.login_form(environ, start_response)
        if path == "/login" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {name: values[0] for name, values in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
            return self.login(form, start_response)
        return self.answer(start_response, "404 Not Found", "not found", "text/plain")

    def answer(self, start_response, status: str, body: str, content_type: str = "text/html"):
        data = body.encode()
        start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data)))])
        return [data]

    def login_form(self, environ, start_response):
        query = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        request = samlp.authn_request_from_string(decode_base64_and_inflate(query["SAMLRequest"]))
        key = secrets.token_urlsafe(16)
        self.pending[key] = {
            "id": request.id,
            "acs": request.assertion_consumer_service_url,
            "sp": request.issuer.text,
            "relay_state": query.get("RelayState", ""),
        }
        page = f"""<!doctype html><title>Test IdP</title><h1>Test IdP</h1>
<form method="post" action="/login"><input type="hidden" name="key" value="{key}">
<label>E-mail <input name="email"></label><button type="submit">Sign in</button></form>"""
        return self.answer(start_response, "200 OK", page)

    def login(self, form: dict, start_response):
        pending = self.pending.pop(form.get("key", ""), None)
        with open(self.people_file) as people_file:
            person = json.load(people_file).get(form.get("email", ""))
        if pending is None or person is None:
            return self.answer(start_response, "400 Bad Request", "unknown person or request", "text/plain")
        mode = person.get("mode", "normal")
        if mode == "error":
            response = self.server.create_error_response(
                pending["id"], pending["acs"], (samlp.STATUS_AUTHN_FAILED, "The person could not be signed in")
            )
        else:
            server = self.impostor if mode == "wrong_key" else self.server
            signed = mode != "unsigned"
            audience = "https://another-service.example/metadata/" if mode == "wrong_audience" else pending["sp"]
            response = server.create_authn_response(
                {"email": [form["email"]], "groups": person.get("groups", [])},
                in_response_to=None if mode == "unsolicited" else pending["id"],
                destination=pending["acs"],
                sp_entity_id=audience,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=form["email"]),
                authn={
                    "class_ref": person.get("acr", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
                    "authn_auth": self.base,
                },
                sign_response=signed,
                sign_assertion=signed,
                sign_alg=xmldsig.SIG_RSA_SHA256,
                digest_alg=xmldsig.DIGEST_SHA256,
            )
        encoded = base64.b64encode(str(response).encode()).decode()
        page = f"""<!doctype html><title>Test IdP</title>
<form method="post" action="{html.escape(pending["acs"])}" id="saml-post">
<input type="hidden" name="SAMLResponse" value="{encoded}">
<input type="hidden" name="RelayState" value="{html.escape(pending["relay_state"])}">
<button type="submit">Continue</button></form>
<script>document.getElementById("saml-post").submit()</script>"""
        return self.answer(start_response, "200 OK", page)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        sys.stderr.write("%s\n" % (format % args))


def main() -> None:
    with open(sys.argv[1]) as config_file:
        config = json.load(config_file)
    with open(f"{config['map_dir']}/portal_map.py", "w") as map_file:
        map_file.write(ATTRIBUTE_MAP)
    idp = Idp(config)
    with make_server("127.0.0.1", config["port"], idp, handler_class=QuietHandler) as httpd:
        print("listening", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
