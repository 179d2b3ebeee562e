"""/admin/shipping-profiles: list and get (Medusa v1)."""

from __future__ import annotations

import json

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.errors import NotFoundError
from domain.users import User
from projections.catalog.query import ProductFilter
from service.api_services.catalog import CatalogService
from service.http.catalog import shapes
from service.http.catalog.responses import answers, encoded, raw_json
from service.http.catalog.shaping import ALL_COLUMNS

LIST_LIMIT = 10  # the service's default `take`, not settable


class ShippingProfileController(Controller):
    path = "/admin/shipping-profiles"
    tags = ["Shipping Profiles"]

    @get(sync_to_thread=True, operation_id="GetShippingProfiles",
         responses=answers(shapes.ShippingProfileListResponse, 401))  # fmt: skip
    def list_shipping_profiles(
        self, catalog: NamedDependency[CatalogService], caller: NamedDependency[User]
    ) -> Response[bytes]:
        """The shipping profiles (at most 10), without a list envelope."""
        catalog.catch_up()
        records = sorted(  # as seeded: the default first
            catalog.view.list_records("shipping_profile"),
            key=lambda r: (r.state["type"] != "default", r.state["created_at"], r.id),
        )
        documents = ",".join(r.document for r in records[:LIST_LIMIT])
        return raw_json(f'{{"shipping_profiles":[{documents}]}}')

    @get(
        "/{profile_id:str}", sync_to_thread=True,
        operation_id="GetShippingProfilesProfile",
        responses=answers(shapes.ShippingProfileResponse, 401, 404),
    )  # fmt: skip
    def get_shipping_profile(
        self, profile_id: FromPath[str], catalog: NamedDependency[CatalogService],
        caller: NamedDependency[User],
    ) -> Response[bytes]:  # fmt: skip
        """One profile with its products and (no) shipping options."""
        catalog.catch_up()
        record = catalog.view.get_record("shipping_profile", profile_id)
        if record is None:
            raise NotFoundError(f"Profile with id: {profile_id} was not found")
        documents, _ = catalog.view.list_products(ProductFilter(), limit=None)
        keep = {*ALL_COLUMNS, "profiles", "profile", "profile_id"}
        products = [
            {k: v for k, v in product.items() if k in keep}
            for product in map(json.loads, documents)
            if product["profile_id"] == profile_id
        ]
        profile = {
            **json.loads(record.document),
            "products": products,
            "shipping_options": [],
        }
        return raw_json(encoded({"shipping_profile": profile}))
