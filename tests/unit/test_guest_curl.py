"""onestack-tiny's ``curl`` (busybox's wget behind curl's plain-GET arguments), run as the guest runs it:
by busybox's sh, with busybox's applets first on the PATH, against a real HTTP server on loopback."""

import http.server
import shutil
import socket
import subprocess
import threading

import pytest

from onestack.guestimage.initramfs import FILES

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed (make install installs it)")


@pytest.fixture
def server():
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's name)
            if self.path != "/latest/meta-data/hostname":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"mover\n")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def guest_curl(tmp_path):
    applets = tmp_path / "bin"
    applets.mkdir()
    for applet in ("wget", "timeout"):
        (applets / applet).symlink_to(BUSYBOX)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([BUSYBOX, "sh", str(FILES / "curl"), *args], capture_output=True, text=True,
                              timeout=30, env={"PATH": str(applets)}, cwd=tmp_path)
    return run


def test_a_get_answers_on_stdout_as_tempests_metadata_meter_reads_it(server, guest_curl):
    done = guest_curl(f"{server}/latest/meta-data/hostname")
    assert (done.returncode, done.stdout) == (0, "mover\n")
    done = guest_curl("-s", "-m", "5", f"{server}/latest/meta-data/hostname")  # curl's options taken
    assert (done.returncode, done.stdout) == (0, "mover\n")


def test_into_a_file_with_o(server, guest_curl, tmp_path):
    assert guest_curl("-sf", "-o", "got", f"{server}/latest/meta-data/hostname").returncode == 0
    assert (tmp_path / "got").read_text() == "mover\n"


def test_an_error_or_no_server_fails_as_curl_does(server, guest_curl):
    assert guest_curl(f"{server}/nothing").returncode != 0
    assert guest_curl("http://127.0.0.1:9/").returncode != 0  # the discard port: nothing listens
    assert guest_curl("-s").returncode == 2


def test_max_time_bounds_a_server_that_never_answers(guest_curl):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes the connection, never answers
        done = guest_curl("-m", "1", f"http://127.0.0.1:{silent.getsockname()[1]}/")
    assert done.returncode != 0
