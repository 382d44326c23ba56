"""Claimed e-mail domains and their proof: a TXT record looked up through a real DNS server on
a loopback port (dnspython's own message code answering over UDP), or an operator's word."""

import socket
import threading

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from django.core.management import CommandError, call_command

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from sso import services
from sso.models import ClaimedDomain

pytestmark = pytest.mark.django_db


class DnsServer:
    """Answers TXT questions from `records` ({name: [text]}) on a loopback UDP port."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                data, peer = self.socket.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True)
            texts = self.records.get(name, [])
            if texts and question.rdtype == dns.rdatatype.TXT:
                response.answer.append(
                    dns.rrset.from_text_list(
                        question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, [f'"{t}"' for t in texts]
                    )
                )
            elif not texts:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def dns_server(settings):
    server = DnsServer()
    settings.SSO_DNS_RESOLVERS = [f"127.0.0.1:{server.port}"]
    yield server
    server.close()


@pytest.fixture
def admin(client_for, alice, acme):
    return client_for(alice)


def claim(admin, domain: str = "Example.COM"):
    response = admin.post("/tenants/acme/sso/domains/", {"domain": domain})
    assert response.status_code == 302
    return ClaimedDomain.objects.get()


def test_a_claim_shows_the_txt_record_to_publish(admin, acme):
    claimed = claim(admin)
    assert claimed.domain == "example.com" and not claimed.is_verified
    page = admin.get("/tenants/acme/sso/").content.decode()
    assert f"portal-sso-verification={claimed.token}" in page
    assert "_portal-sso.example.com" in page
    assert ActivityEntry.objects.get(action=Action.SSO_DOMAIN_CLAIMED).details == {"domain": "example.com"}


@pytest.mark.parametrize("domain", ["localhost", "exa mple.com", "-bad.com", "a" * 64 + ".com", "@"])
def test_a_malformed_domain_is_a_form_error(admin, domain):
    response = admin.post("/tenants/acme/sso/domains/", {"domain": domain})
    assert response.status_code == 400
    assert "Enter a domain name such as acme.com." in response.content.decode()


def test_the_txt_record_proves_the_domain(admin, acme, dns_server):
    claimed = claim(admin)
    admin.post(f"/tenants/acme/sso/domains/{claimed.pk}/verify/")
    claimed.refresh_from_db()
    assert not claimed.is_verified  # not published yet
    dns_server.records["_portal-sso.example.com"] = ["v=spf1 -all", claimed.txt_record]
    response = admin.post(f"/tenants/acme/sso/domains/{claimed.pk}/verify/")
    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.is_verified and claimed.verified_by == "dns"
    assert ActivityEntry.objects.get(action=Action.SSO_DOMAIN_VERIFIED).details == {
        "domain": "example.com",
        "proof": "dns",
    }


def test_another_token_proves_nothing(admin, dns_server):
    claimed = claim(admin)
    dns_server.records["_portal-sso.example.com"] = ["portal-sso-verification=someone-elses"]
    admin.post(f"/tenants/acme/sso/domains/{claimed.pk}/verify/")
    claimed.refresh_from_db()
    assert not claimed.is_verified


def test_without_dns_the_page_says_to_ask_the_operator(admin):
    # pytest.ini points the resolver at a closed loopback port.
    claimed = claim(admin)
    response = admin.post(f"/tenants/acme/sso/domains/{claimed.pk}/verify/", follow=True)
    assert (
        "DNS cannot be reached from the portal: ask your operator to confirm the domain." in response.content.decode()
    )


def test_the_operator_confirms_a_domain(acme):
    claimed = services.domain_claim(tenant=acme, audit=SYSTEM, domain="example.com")
    call_command("sso_domain_confirm", "acme", "example.com")
    claimed.refresh_from_db()
    assert claimed.is_verified and claimed.verified_by == "operator"
    with pytest.raises(CommandError, match="has not claimed"):
        call_command("sso_domain_confirm", "acme", "other.com")


def test_a_domain_proved_by_one_tenant_cannot_be_taken_by_another(acme, globex):
    mine = services.domain_claim(tenant=acme, audit=SYSTEM, domain="example.com")
    theirs = services.domain_claim(tenant=globex, audit=SYSTEM, domain="example.com")  # before acme proves it
    services.domain_verified(claimed=mine, audit=SYSTEM, proof="operator")
    with pytest.raises(services.DomainError):
        services.domain_verified(claimed=theirs, audit=SYSTEM, proof="operator")
    with pytest.raises(services.DomainError):
        services.domain_claim(tenant=globex, audit=SYSTEM, domain="example.com")


def test_a_domain_of_another_tenant_is_404(admin, globex):
    theirs = services.domain_claim(tenant=globex, audit=SYSTEM, domain="globex.test")
    assert admin.post(f"/tenants/acme/sso/domains/{theirs.pk}/remove/").status_code == 404
    assert ClaimedDomain.objects.filter(pk=theirs.pk).exists()
