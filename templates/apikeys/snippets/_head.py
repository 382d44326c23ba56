# Runs with any python3: the standard library only.
import json
import urllib.error
import urllib.parse
import urllib.request


def call(request):
    """The JSON answer to `request`; an error's answer is printed, then raised."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode())
        raise

