from importlib.metadata import entry_points

# An installed onestack brings its pytest plugin through the ``pytest11`` entry point; a checkout that is
# not (yet) installed with it brings the plugin here, as a user's conftest.py would.
if not entry_points(group="pytest11", name="onestack"):
    pytest_plugins = ["onestack.testing.plugin"]
