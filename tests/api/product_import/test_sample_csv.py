"""examples/products.csv imports as the README's quick start does: dry run, confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.api.catalog.support import post
from tests.api.product_import.support import list_products, start_import, upload
from tests.support import Caller, wait_for_status

SAMPLE = Path(__file__).parents[3] / "examples" / "products.csv"


def test_the_sample_csv_previews_then_creates_its_products_once_confirmed(
    client: TestClient[Any], admin: Caller
) -> None:
    key = upload(client, admin, SAMPLE.read_bytes(), "products.csv")
    job_id = start_import(client, admin, key, dry_run=True)

    preview = wait_for_status(client, admin, job_id, ["pre_processed", "failed"])
    assert preview["status"] == "pre_processed", preview
    assert preview["result"]["stat_descriptors"][0]["message"] == (
        "There will be 3 products created (0  updated)."
        "\n             7 variants will be created and 0 updated"
    )
    assert list_products(client, admin)["count"] == 0  # nothing before the confirm
    confirmed = post(client, admin, f"/admin/batch-jobs/{job_id}/confirm", {})
    assert confirmed.status_code == 200, confirmed.text
    done = wait_for_status(client, admin, job_id, timeout=30)
    assert done["status"] == "completed", done

    products = {
        p["handle"]: p for p in list_products(client, admin)["products"]
    }  # fmt: skip
    assert sorted(products) == ["canvas-tote", "classic-tee", "enamel-mug"]
    tee, mug, tote = (products[h] for h in ("classic-tee", "enamel-mug", "canvas-tote"))
    assert (tee["title"], tee["status"], tee["type"]["value"]) == (
        "Classic Tee", "published", "Apparel",
    )  # fmt: skip
    assert tee["description"] == "A heavyweight tee, cut straight and garment-dyed."
    assert sorted(t["value"] for t in tee["tags"]) == ["basics", "cotton"]
    assert [o["title"] for o in tee["options"]] == ["Size", "Color"]
    assert [i["url"] for i in tee["images"]] == [
        "https://example.com/images/classic-tee.png",
        "https://example.com/images/classic-tee-back.png",
    ]
    assert [
        (v["sku"], sorted((p["currency_code"], p["amount"]) for p in v["prices"]),
         [o["value"] for o in v["options"]], v["inventory_quantity"])
        for v in tee["variants"]
    ] == [
        ("TEE-S-BLK", [("eur", 2200), ("usd", 2400)], ["S", "Black"], 25),
        ("TEE-S-WHT", [("eur", 2200), ("usd", 2400)], ["S", "White"], 25),
        ("TEE-M-BLK", [("eur", 2200), ("usd", 2400)], ["M", "Black"], 40),
        ("TEE-M-WHT", [("eur", 2450), ("usd", 2650)], ["M", "White"], 0),
    ]  # fmt: skip
    assert tee["variants"][3]["allow_backorder"] is True
    (mug_variant,) = mug["variants"]
    assert (mug_variant["sku"], mug_variant["barcode"]) == ("MUG-350", "4006381333931")
    assert [o["title"] for o in mug["options"]] == ["Size"]
    assert (tote["status"], tote["discountable"], tote["thumbnail"]) == (
        "draft", False, None,
    )  # fmt: skip
    assert [v["sku"] for v in tote["variants"]] == ["TOTE-NAT", "TOTE-BLK"]
