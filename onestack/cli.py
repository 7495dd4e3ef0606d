"""The ``onestack`` command."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onestack import config, daemon, serve, tls
from onestack.drivers import choice
from onestack.drivers.netns import availability

app = typer.Typer(add_completion=False, no_args_is_help=True, help="An OpenStack-compatible cloud in one package.")
keys_app = typer.Typer(no_args_is_help=True, help="Fernet token keys.")
app.add_typer(keys_app, name="keys")
image_app = typer.Typer(no_args_is_help=True, help="Guest images.")
app.add_typer(image_app, name="image")
compute_app = typer.Typer(no_args_is_help=True, help="Compute hosts.")
app.add_typer(compute_app, name="compute")
diagnose_app = typer.Typer(no_args_is_help=True, help="Say what stands between a packet and its destination.")
app.add_typer(diagnose_app, name="diagnose")
console = Console()
# where a joined host takes the API's calls for its guests (consoles, interfaces), on its tunnel address
LINK_PORT = 8790

DataDir = Annotated[Path, typer.Option("--data-dir", help="Where the cloud keeps its state.",
                                       default_factory=config.default_data_dir)]


def _settings(data_dir: Path, bind: str | None = None, database: str | None = None,
              workers: int | None = None, compute_driver: str | None = None,
              fake_hosts: int | None = None, serve_tls: bool | None = None) -> config.Settings:
    settings = config.load(data_dir.resolve())
    if bind:
        settings.bind = bind
    if database:
        settings.database = database
    if workers:
        settings.workers = workers
    if compute_driver:
        settings.compute.driver = compute_driver
    if fake_hosts:
        settings.compute.fake_hosts = fake_hosts
    if serve_tls is not None:
        settings.tls.enabled = serve_tls
    return settings


@app.command()
def up(
    data_dir: DataDir,
    bind: Annotated[str | None, typer.Option(help="HOST:PORT to serve on (default 127.0.0.1:8080).")] = None,
    database: Annotated[str | None, typer.Option(help="SQLAlchemy URL, e.g. postgresql://...; "
                                                      "default SQLite in the data dir.")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Return once the API answers.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="Serving processes (default 1; kept in "
                                                             "onestack.yaml).")] = None,
    compute_driver: Annotated[str | None, typer.Option(help="auto, qemu or fake (default auto: QEMU where it "
                                                            "can run; kept in onestack.yaml).")] = None,
    fake_hosts: Annotated[int | None, typer.Option(min=1, help="Compute hosts the fake driver runs.")] = None,
    serve_tls: Annotated[bool | None, typer.Option("--tls/--no-tls", help="Serve HTTPS, with a certificate of the "
                                                   "cloud's own CA unless onestack.yaml's tls section names one "
                                                   "(kept in onestack.yaml).")] = None,
    user_clouds: Annotated[bool, typer.Option(help="Merge our entries into ~/.config/openstack/clouds.yaml.")]
    = True,
) -> None:
    """Initialise the data dir if needed and start the cloud."""
    if compute_driver not in (None, "auto", "qemu", "fake"):
        console.print(f"[red]unknown compute driver {compute_driver}: choose auto, qemu or fake[/red]")
        raise typer.Exit(2)
    settings = _settings(data_dir, bind, database, workers, compute_driver, fake_hosts, serve_tls)
    if daemon.running_pid(settings.data_dir):
        console.print(f"onestack is already running from {settings.data_dir}")
        raise typer.Exit(0 if daemon.answers(settings.base_url, cafile=tls.ca_path(settings)) else 1)
    if settings.tls.enabled and settings.public_url.startswith("http:"):
        console.print(f"[red]tls: public_url {settings.public_url} must be https:// when the cloud serves HTTPS[/red]")
        raise typer.Exit(2)
    if settings.tls.enabled and settings.tls.cert_file:
        given = tls.files(settings)
        missing = [p for p in (given.cert, given.key, given.ca) if p is not None and not p.is_file()]
        if missing:
            console.print(f"[red]tls: {', '.join(map(str, missing))} (named in onestack.yaml) does not exist[/red]")
            raise typer.Exit(2)
    config.save(settings)
    started = time.monotonic()
    _check_ceph(settings)
    if detach:
        argv = ["-m", "onestack.serve", str(settings.data_dir)] + ([] if user_clouds else ["--no-user-clouds"])
        try:
            pid = daemon.detach(argv, settings.data_dir, settings.base_url, cafile=tls.ca_path(settings))
        except RuntimeError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        _welcome(settings, pid, time.monotonic() - started)
        return
    serve.run(settings, user_clouds=user_clouds)


def _check_ceph(settings: config.Settings) -> None:
    """A configured Ceph cluster must answer before the cloud starts: every RBD volume depends on it, and
    with ``object_store`` every object (its pool must open for the client)."""
    if not settings.ceph.conf:
        if settings.ceph.object_store:
            console.print("[red]onestack.yaml's ceph.object_store is on, but ceph.conf names no cluster[/red]")
            raise typer.Exit(1)
        return
    from onestack.drivers.volumerbd import Ceph, CephError

    ceph = settings.ceph
    try:
        Ceph(ceph.conf, ceph.client, ceph.keyring, min(ceph.timeout, 20)).check()
    except CephError as exc:
        console.print(f"[red]the Ceph cluster of onestack.yaml's ceph section ({ceph.conf}, client.{ceph.client}) "
                      f"cannot be reached: {exc}[/red]")
        raise typer.Exit(1) from None
    if ceph.object_store:
        from onestack.drivers.objectstore import Unavailable
        from onestack.drivers.objectstore.rados import RadosStore

        store = RadosStore(ceph.conf, ceph.client, ceph.keyring, ceph.pools.get("objects", "objects"),
                           timeout=min(ceph.timeout, 20))
        try:
            store.check()
        except Unavailable as exc:
            console.print(f"[red]the object store's pool cannot be used (ceph.object_store): {exc}[/red]")
            raise typer.Exit(1) from None
        finally:
            store.close()


def _welcome(settings: config.Settings, pid: int, seconds: float) -> None:
    console.print(f"[green]onestack is up[/green] at {settings.base_url} (pid {pid}, ready in {seconds:.2f}s)")
    console.print(f"  data dir   {settings.data_dir}")
    kind, why = choice.choose(settings.compute.driver)
    console.print(f"  compute    {kind} driver ({why})")
    containers, why = choice.containers(settings.compute.containers, kind)
    console.print(f"  containers {'on' if containers else 'off'} ({why})")
    on, why = availability.choose(settings.network.dataplane)
    console.print(f"  network    data plane {'on' if on else 'off'} ({why})")
    if settings.ceph.conf:
        console.print(f"  ceph       {settings.ceph.conf} as client.{settings.ceph.client} (volume backend "
                      f"{settings.ceph.volume_backend_name!r}, pool {settings.ceph.pools['volumes']})")
        if settings.ceph.object_store:
            console.print(f"  objects    RADOS, pool {settings.ceph.pools.get('objects', 'objects')}")
    metadata = settings.data_dir / "metadata.sock"
    console.print(f"  metadata   {metadata}" + (f" and {settings.metadata.bind} (signed requests)"
                                                 if settings.metadata.bind else ""))
    if settings.tls.enabled:
        ca = tls.ca_path(settings)
        console.print(f"  tls        serving {tls.files(settings).cert}" + (f", clients trust {ca}" if ca else ""))
    console.print(f"  clouds     {settings.data_dir / 'clouds.yaml'} (entries onestack, onestack-admin)")
    console.print("  try        openstack --os-cloud onestack-admin catalog list")
    console.print(f"             source {settings.data_dir / 'openrc-admin'}; openstack token issue")


@app.command()
def down(
    data_dir: DataDir,
    purge: Annotated[bool, typer.Option("--purge", help="Also remove every guest, disk and host object of "
                                                       "this cloud, and the data dir.")] = False,
    purge_ceph: Annotated[bool, typer.Option("--purge-ceph", help="With --purge: also empty the configured "
                                                                 "Ceph cluster's pools (left alone otherwise).")] = False,
) -> None:
    """Stop the cloud started from this data dir (its guests keep running unless --purge)."""
    if purge_ceph and not purge:
        console.print("[red]--purge-ceph goes with --purge[/red]")
        raise typer.Exit(2)
    pid = daemon.stop(data_dir.resolve())
    console.print("onestack was not running" if pid is None else f"stopped onestack (pid {pid})")
    if not purge:
        return
    from onestack import purge as purging

    settings = _settings(data_dir)
    try:
        failed = purging.purge(settings, ceph=purge_ceph)
    except purging.PurgeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if failed:
        console.print(f"[red]purge incomplete, {settings.data_dir} kept:[/red] " + "; ".join(failed))
        raise typer.Exit(1)
    console.print(f"removed every guest of this cloud and {settings.data_dir}")


@app.command()
def status(data_dir: DataDir) -> None:
    """Say whether the cloud runs and answers; exit 0 only if it does."""
    settings = _settings(data_dir)
    pid = daemon.running_pid(settings.data_dir)
    if pid is None:
        console.print("onestack is not running")
        raise typer.Exit(3)
    if not daemon.answers(settings.base_url, cafile=tls.ca_path(settings)):
        console.print(f"onestack (pid {pid}) is running but does not answer at {settings.base_url}")
        raise typer.Exit(1)
    console.print(f"onestack (pid {pid}) is up at {settings.base_url}")


@keys_app.command("rotate")
def rotate(data_dir: DataDir) -> None:
    """Promote the staged key, stage a new one; running servers pick it up by themselves."""
    from onestack.services.identity.service.fernet import KeyRepository

    repo = KeyRepository(data_dir.resolve() / "fernet-keys")
    repo.initialise()
    console.print(f"primary key is now {repo.rotate()}")


@image_app.command("build")
def image_build(
    cache_dir: Annotated[Path | None, typer.Option(help="Where to build and keep it (default "
                                                        "~/.cache/onestack/images, or $ONESTACK_IMAGE_CACHE).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Build again even if an identical build is cached.")] = False,
) -> None:
    """Build onestack-tiny.qcow2, a tiny bootable guest, from the installed Debian packages."""
    from onestack.guestimage import build

    try:
        image = build.build(cache_dir, force=force)
    except (build.BuildError, OSError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    what = "built" if image.built else "already built (cached)"
    console.print(f"{image.path} {what}: {image.size_bytes / 2**20:.1f} MiB qcow2, "
                  f"virtual {image.virtual_size_bytes / 2**20:.0f} MiB, kernel {image.kernel_version}")
    console.print(f"  sha256 {image.sha256}")


@diagnose_app.command("server")
def diagnose_server(
    data_dir: DataDir,
    server: Annotated[str, typer.Argument(help="The server's name or id.")],
    source: Annotated[str, typer.Option("--from", help="'external' (the outside world, through a floating IP) "
                                                       "or another server's name or id.")] = "external",
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="A TCP port (default: ping).")] = None,
) -> None:
    """Walk the hops a packet takes to a server: one line per hop, fine or missing; exit 1 if any is missing."""
    from sqlalchemy import or_, select

    from onestack.db.engine import Database
    from onestack.services.compute.models import Instance
    from onestack.services.network.reconcile import diagnose

    def find(session, wanted: str) -> diagnose.Server:
        rows = session.scalars(select(Instance).where(Instance.deleted.is_(False),
                                                      or_(Instance.id == wanted, Instance.name == wanted))).all()
        if len(rows) != 1:
            console.print(f"[red]no server {wanted!r}[/red]" if not rows else
                          f"[red]{len(rows)} servers are named {wanted!r}: give an id ({', '.join(r.id for r in rows)})[/red]")
            raise typer.Exit(2)
        return diagnose.Server(rows[0].id, rows[0].name, rows[0].vm_state, rows[0].host)

    db = Database(_settings(data_dir).database_url)
    try:
        with db.read() as session:
            target = find(session, server)
            origin = None if source == "external" else find(session, source)
            traffic = diagnose.Traffic("tcp", port) if port else diagnose.Traffic("icmp")
            hops = diagnose.diagnose(session, target, traffic, diagnose.KernelView.observe(), origin)
    finally:
        db.dispose()
    console.print(f"{traffic} to {target.name} from {origin.name if origin else 'outside'}:", highlight=False,
                  soft_wrap=True)
    for hop in hops:
        console.print(str(hop), style=None if hop.ok else "red", highlight=False, soft_wrap=True)
    if not all(hop.ok for hop in hops):
        raise typer.Exit(1)


@image_app.command("register")
def image_register(data_dir: DataDir) -> None:
    """Build onestack-tiny and onestack-tiny-container if needed and register them in the running cloud as
    public images (once)."""
    import subprocess

    from onestack.guestimage import build, container, register

    for name, make in ((register.IMAGE_NAME, build.build), (register.CONTAINER_IMAGE_NAME, container.build)):
        try:
            image_id, made = register.register(data_dir.resolve(), make().path, name)
        except (build.BuildError, OSError, subprocess.CalledProcessError) as exc:
            console.print(f"[red]cannot register {name}: {exc}[/red]")
            raise typer.Exit(1) from None
        console.print(f"image {name} {'registered' if made else 'already registered'}: {image_id}")


@compute_app.command("join")
def compute_join(
    database: Annotated[str, typer.Option(help="The controller's PostgreSQL URL (postgresql+psycopg://...).")],
    data_dir: DataDir,
    host: Annotated[str | None, typer.Option(help="This host's name (default: the machine's hostname).")] = None,
    tunnel_ip: Annotated[str | None, typer.Option(help="This host's VXLAN tunnel address.")] = None,
    image_dir: Annotated[str | None, typer.Option(help="The image store directory the hosts share "
                                                       "(the controller's image_dir).")] = None,
    compute_driver: Annotated[str | None, typer.Option(help="auto, qemu or fake.")] = None,
    link_bind: Annotated[str | None, typer.Option(
        help="HOST:PORT where the API takes this host's guests' consoles and interfaces "
             "(default: the tunnel address, port 8790).")] = None,
) -> None:
    """Run the compute engine and network agent of one more host of a cloud on PostgreSQL (no API)."""
    if compute_driver not in (None, "auto", "qemu", "fake"):
        console.print(f"[red]unknown compute driver {compute_driver}: choose auto, qemu or fake[/red]")
        raise typer.Exit(2)
    from onestack import join, server

    settings = _settings(data_dir, database=database, compute_driver=compute_driver)
    settings.compute.host = host or settings.compute.host
    settings.network.tunnel_ip = tunnel_ip or settings.network.tunnel_ip
    settings.image_dir = image_dir or settings.image_dir
    settings.compute.link_bind = (link_bind or settings.compute.link_bind
                                  or f"{settings.network.tunnel_ip or '127.0.0.1'}:{LINK_PORT}")
    config.save(settings)
    server.configure_logging(settings.log_level)
    try:
        join.run(settings)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def main() -> None:
    app(prog_name="onestack")


if __name__ == "__main__":
    sys.exit(main())
