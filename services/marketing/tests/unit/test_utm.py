"""UTM tags on the links of campaign and flow mails (issue 16, ADR 0121): a click
redirect's target gets utm_source, utm_medium=email, utm_campaign=<campaign id> and, in an
A/B test, utm_content=<variant>; the target's own query and fragment stay as they were,
and a UTM parameter the marketer set wins; flow links carry utm_campaign=flow-<name>."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from kontor_marketing.application.campaigns import CampaignLinks, record_engagement
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.domain.campaign import Campaign
from kontor_marketing.domain.flow_mails import back_in_stock_mail
from kontor_marketing.domain.links import LinkSigner, campaign_utm, flow_utm, with_utm
from kontor_marketing.domain.segment_flows import EntryMail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
CONSENT = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=1))
TAGS = campaign_utm("kontor", "c-1")


def test_the_tags_are_appended_after_the_targets_own_query_and_before_its_fragment() -> None:
    assert with_utm("https://shop.example/winter", TAGS) == (
        "https://shop.example/winter?utm_source=kontor&utm_medium=email&utm_campaign=c-1"
    )
    assert with_utm("https://shop.example/p?size=M&farbe=gr%C3%BCn#bewertungen", TAGS) == (
        "https://shop.example/p?size=M&farbe=gr%C3%BCn"
        "&utm_source=kontor&utm_medium=email&utm_campaign=c-1#bewertungen"
    )
    assert with_utm("https://shop.example/p?size=M&", TAGS).startswith(
        "https://shop.example/p?size=M&utm_source=kontor&"
    )


def test_the_marketers_own_utm_values_win() -> None:
    tagged = with_utm("https://shop.example/?utm_campaign=winter&UTM_SOURCE=insta", TAGS)
    query = parse_qsl(urlsplit(tagged).query)
    assert query == [("utm_campaign", "winter"), ("UTM_SOURCE", "insta"), ("utm_medium", "email")]
    every = "https://shop.example/?utm_source=a&utm_medium=b&utm_campaign=c"
    assert with_utm(every, TAGS) == every  # nothing to add: the link as written


def test_only_web_links_are_tagged_and_the_variant_and_flows_have_their_tags() -> None:
    for link in ("mailto:service@shop.example", "tel:+4930123456", "/relative/path"):
        assert with_utm(link, TAGS) == link
    assert campaign_utm("shop", "c-1", "B") == {
        "utm_source": "shop",
        "utm_medium": "email",
        "utm_campaign": "c-1",
        "utm_content": "B",
    }
    assert flow_utm("kontor", "back_in_stock")["utm_campaign"] == "flow-back_in_stock"


async def test_a_click_redirects_to_the_target_with_the_campaigns_tags() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    plain, tested = (
        Campaign.draft(
            campaign_id=cid,
            name=cid,
            subject="s",
            text="t",
            topic="offers",
            segment_id="s-1",
            now=NOW,
        )
        for cid in ("c-1", "c-2")
    )
    tested.with_variant_b("Anders", None, None, sample=Decimal("0.2"), metric="clicks", wait_s=60)

    async def seed(uow: InMemoryMarketingUnitOfWork) -> None:
        await uow.campaigns.save(plain)
        await uow.campaigns.save(tested)

    await transactor.run(seed)
    links = CampaignLinks(CONSENT, utm_source="meinshop")
    target = "https://shop.example/winter?size=M"

    async def click(campaign_id: str, variant: str) -> str | None:
        url = links.click(campaign_id, "anna@example.de", target, variant)
        token = unquote(url.rsplit("/", 1)[1])
        return await record_engagement(transactor, token, "click", links=links, clock=lambda: NOW)

    assert await click("c-1", "A") == (
        f"{target}&utm_source=meinshop&utm_medium=email&utm_campaign=c-1"
    )
    assert await click("c-2", "B") == (
        f"{target}&utm_source=meinshop&utm_medium=email&utm_campaign=c-2&utm_content=B"
    )
    clicks = [e.url for e in transactor.db.tables["engagements"]["rows"]]
    assert clicks == [target, target]  # results per link count the link as written


def test_flow_mails_tag_their_shop_links_but_not_the_unsubscribe_link() -> None:
    notice = back_in_stock_mail(
        to="anna@example.de",
        locale="de",
        sku="TEE-RED-M",
        shop_url=with_utm("https://shop.example", flow_utm("kontor", "back_in_stock")),
        unsubscribe_url="https://shop.example/newsletter/unsubscribe/x",
        imprint="Kontor GmbH",
    )
    assert "utm_campaign=flow-back_in_stock" in notice.text
    entry = EntryMail("Hallo", "Neu: https://shop.example/neu?x=1 {{ unsubscribe_url }}", "offers")
    unsubscribe = "https://shop.example/newsletter/unsubscribe/tok"
    mail = entry.to(
        "anna@example.de",
        "Anna",
        unsubscribe_url=unsubscribe,
        imprint="K",
        utm=flow_utm("kontor", "entered_segment"),
    )
    assert "https://shop.example/neu?x=1&utm_source=kontor&utm_medium=email" in mail.text
    assert "utm_campaign=flow-entered_segment" in mail.text
    assert mail.text.count(unsubscribe) == 2  # the placeholder's and the footer's
    assert f"{unsubscribe}?" not in mail.text and f"{unsubscribe}&" not in mail.text
