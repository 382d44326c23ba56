from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed storage, leaving a JavaScript file's sourceMappingURL as
    written: a vendored bundle (static/vendor/) names a source map that is not shipped, which
    would otherwise fail collectstatic. CSS references are still rewritten to hashed names."""

    patterns = tuple((glob, rules) for glob, rules in CompressedManifestStaticFilesStorage.patterns if glob != "*.js")
