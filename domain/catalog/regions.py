"""Regions: a currency, a tax rate, providers and the countries they serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.catalog import claims
from domain.catalog.base import CatalogAggregate, JsonObject
from domain.catalog.geography import (
    COUNTRIES,
    CURRENCIES,
    FULFILLMENT_PROVIDERS,
    PAYMENT_PROVIDERS,
)
from domain.errors import InvalidDataError

MAX_TAX_RATE = 100


class Region(CatalogAggregate):
    KIND = "region"
    PREFIX = "reg"
    if TYPE_CHECKING:  # set by the events' apply; annotations here would make
        # eventsourcing generate an __init__ from them
        name: str
        currency_code: str
        countries: list[str]

    @dataclass(frozen=True)
    class Created(CatalogAggregate.Created):
        NAME = "region.created"
        name: str
        currency_code: str
        tax_rate: float
        tax_code: str | None
        payment_providers: list[str]
        fulfillment_providers: list[str]
        countries: list[str]
        metadata: JsonObject | None

        def change(self, aggregate: Any) -> None:
            aggregate.name = self.name
            aggregate.currency_code = self.currency_code
            aggregate.tax_rate = self.tax_rate
            aggregate.tax_code = self.tax_code
            aggregate.gift_cards_taxable = True
            aggregate.automatic_taxes = True
            aggregate.tax_provider_id = None
            aggregate.payment_providers = list(self.payment_providers)
            aggregate.fulfillment_providers = list(self.fulfillment_providers)
            aggregate.countries = list(self.countries)
            aggregate.metadata = self.metadata

    @classmethod
    def create(  # noqa: PLR0913 - Medusa's region fields, all by name
        cls,
        *,
        name: str,
        currency_code: str,
        tax_rate: float,
        tax_code: str | None,
        payment_providers: list[str],
        fulfillment_providers: list[str],
        countries: list[str],
        metadata: JsonObject | None,
        actor: str,
    ) -> Region:
        """Medusa's RegionService.create checks, in its order (countries are lower case)."""
        code = currency_code.lower()
        if code not in CURRENCIES:
            raise InvalidDataError("Invalid currency code")
        if tax_rate and not 0 <= tax_rate <= MAX_TAX_RATE:
            raise InvalidDataError("The tax_rate must be between 0 and 1")
        if any(p not in PAYMENT_PROVIDERS for p in payment_providers):
            raise InvalidDataError("Payment provider not found")
        if any(p not in FULFILLMENT_PROVIDERS for p in fulfillment_providers):
            raise InvalidDataError("Fulfillment provider not found")
        iso_codes = [c.lower() for c in countries]
        if any(c not in COUNTRIES for c in iso_codes):
            raise InvalidDataError("Invalid country code")
        return cls._create(
            cls.Created, id=cls.new_id(), name=name, currency_code=code,
            tax_rate=tax_rate, tax_code=tax_code,
            payment_providers=list(payment_providers),
            fulfillment_providers=list(fulfillment_providers),
            countries=list(dict.fromkeys(iso_codes)), metadata=metadata, actor=actor,
        )  # fmt: skip

    def unique_keys(self) -> set[str]:
        # A country belongs to one region at a time.
        return {claims.claim_key(claims.REGION_COUNTRY, c) for c in self.countries}
