"""Key pairs: list, import a public key, delete (the private key never passes through the dashboard)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.web import Page, panel


@panel()
async def keypairs(page: Page) -> Response:
    found = (await page.cloud.get("compute", "/os-keypairs"))["keypairs"]
    return page.render("keypairs.html", title="Key pairs", keypairs=[k["keypair"] for k in found])


@panel(back="/keypairs")
async def import_keypair(page: Page) -> Response:
    name, public_key = page.form.get("name"), page.form.get("public_key")
    if not name or not public_key:
        raise ApiError(400, "A key pair needs a name and a public key.")
    await page.cloud.post("compute", "/os-keypairs", {"keypair": {"name": name, "public_key": public_key}})
    return page.done(f"Key pair {name} imported.", "/keypairs")


@panel(back="/keypairs")
async def delete_keypair(page: Page) -> Response:
    await page.cloud.delete("compute", f"/os-keypairs/{page.request.path_params['name']}")
    return page.done("Key pair deleted.", "/keypairs")


def routes() -> list[Route]:
    return [Route("/keypairs", keypairs, methods=["GET"]), Route("/keypairs", import_keypair, methods=["POST"]),
            Route("/keypairs/{name}/delete", delete_keypair, methods=["POST"])]
