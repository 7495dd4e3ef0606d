"""Key pairs: list, import a public key, or have Nova generate one, delete.  A generated private key is
kept in the session (a file only the server reads) until its owner downloads it, once; an imported
key's private half never passes through the dashboard."""

from __future__ import annotations

import re

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.web import Page, panel


@panel()
async def keypairs(page: Page) -> Response:
    found = (await page.cloud.get("compute", "/os-keypairs"))["keypairs"]
    return page.render("keypairs.html", title="Key pairs", keypairs=[k["keypair"] for k in found])


async def create_keypair(page: Page, name: str, public_key: str) -> str:
    """Import ``public_key`` as key pair ``name``, or (none given) have Nova generate one and keep its
    private key for one download.  Says which on the next page."""
    if not name:
        raise ApiError(400, "A key pair needs a name.")
    body = {"name": name, **({"public_key": public_key} if public_key else {})}
    made = (await page.cloud.post("compute", "/os-keypairs", {"keypair": body}))["keypair"]
    if made.get("private_key"):
        page.session.private_keys[name] = made["private_key"]
        page.session.say("ok", f"Key pair {name} created: download its private key now, it is not kept.")
    else:
        page.session.say("ok", f"Key pair {name} imported.")
    return name


@panel(back="/keypairs")
async def import_keypair(page: Page) -> Response:
    await create_keypair(page, page.form.get("name"), page.form.get("public_key"))
    page.dash.store.save(page.session)
    return RedirectResponse(page.base + "/keypairs", 303)


@panel()
async def private_key(page: Page) -> Response:
    """The generated private key, once: it leaves the session as it is sent."""
    name = page.request.path_params["name"]
    key = page.session.private_keys.pop(name, None)
    if key is None:
        raise ApiError(404, f"There is no private key of {name} to download (it is offered once).")
    page.dash.store.save(page.session)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".pem"
    return Response(key, media_type="application/x-pem-file",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@panel(back="/keypairs")
async def delete_keypair(page: Page) -> Response:
    await page.cloud.delete("compute", f"/os-keypairs/{page.request.path_params['name']}")
    return page.done("Key pair deleted.", "/keypairs")


def routes() -> list[Route]:
    return [Route("/keypairs", keypairs, methods=["GET"]), Route("/keypairs", import_keypair, methods=["POST"]),
            Route("/keypairs/{name}/private-key", private_key, methods=["GET"]),
            Route("/keypairs/{name}/delete", delete_keypair, methods=["POST"])]
