"""Every catalog aggregate, and which aggregate each catalog event belongs to."""

from __future__ import annotations

from domain.catalog.base import CatalogAggregate
from domain.catalog.categories import ProductCategory
from domain.catalog.collections import Collection
from domain.catalog.products import Product
from domain.catalog.regions import Region
from domain.catalog.sales_channels import SalesChannel
from domain.catalog.shipping_profiles import ShippingProfile
from domain.catalog.store import Store

AGGREGATES: tuple[type[CatalogAggregate], ...] = (
    Product, Region, Collection, SalesChannel, ProductCategory, ShippingProfile, Store,
)  # fmt: skip
AGGREGATE_OF_EVENT: dict[type[CatalogAggregate.Event], type[CatalogAggregate]] = {
    member: aggregate
    for aggregate in AGGREGATES
    for member in vars(aggregate).values()
    if isinstance(member, type)
    and issubclass(member, CatalogAggregate.Event)
    and member.NAME  # leaves out the bases the aggregate metaclass adds
}
EVENT_CLASSES = tuple(AGGREGATE_OF_EVENT)
AGGREGATE_OF_KIND = {aggregate.KIND: aggregate for aggregate in AGGREGATES}
