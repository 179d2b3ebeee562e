"""The catalog read model as strategies and handlers use it (a hosted read model).

It is hosted like every read model (service.read_models.host); this name stays for
the code that reads the catalog: `.view` (projections.catalog.view.CatalogView),
`.catch_up()` before a read, `.settle(position)` after a write.
"""

from __future__ import annotations

from projections.catalog.view import CatalogView
from service.read_models.host import HostedReadModel

CatalogReadModel = HostedReadModel[CatalogView]
