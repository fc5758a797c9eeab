"""componentize-py finds the exported ``user`` resource here: the wasp_async
SDK's, which makes an object of the class the app module exported."""

from wasp_async import _UserResource as User  # noqa: F401
