# The real-VM data-plane test boots the same onestack-tiny image as the compute driver's tests.
from tests.drivers.conftest import tiny_image  # noqa: F401
