"""Every service onestack serves, named once.

The app mounts their routes from here and Alembic sees their tables through ``MODELS`` (imported for the
side effect of declaring them on ``db.base.Base``); ``METADATA`` holds them all, from which a new database is
made at head.  A new service adds one line to each tuple.
"""

from __future__ import annotations

from onestack.db.base import Base
from onestack.http.routing import Service
from onestack.services.compute import api as compute_api
from onestack.services.compute import models as compute_models
from onestack.services.identity import api as identity_api
from onestack.services.identity import models as identity_models
from onestack.services.image import api as image_api
from onestack.services.image import models as image_models
from onestack.services.network import api as network_api
from onestack.services.network import models as network_models
from onestack.services.object import api as object_api
from onestack.services.object import models as object_models
from onestack.services.object.api import s3 as object_s3_api
from onestack.services.orchestration import api as orchestration_api
from onestack.services.orchestration import models as orchestration_models
from onestack.services.placement import api as placement_api
from onestack.services.placement import models as placement_models
from onestack.services.volume import api as volume_api
from onestack.services.volume import models as volume_models

MODELS = (identity_models, image_models, network_models, placement_models, compute_models, volume_models,
          object_models, orchestration_models)
APIS = (identity_api, image_api, network_api, compute_api, placement_api, volume_api, object_api,
        object_s3_api, orchestration_api)
METADATA = Base.metadata  # every table of MODELS


def services() -> list[Service]:
    return [api.service() for api in APIS]
