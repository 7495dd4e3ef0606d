"""A listing's last_modified, formatted by hand for speed, is the string datetime's UTC formatting gives."""

import datetime
import random

from onestack.services.object.views import iso


def test_iso_matches_utc_formatting_to_the_microsecond():
    rng = random.Random(15)
    stamps = [0.0, 0.5, 1764934590.0, 1764934590.12345, 1764934590.999995, 4102444800.00001]
    stamps += [round(rng.uniform(0, 4e9), 5) for _ in range(2000)]
    for stamp in stamps:
        expected = datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        assert iso(stamp) == expected, stamp
