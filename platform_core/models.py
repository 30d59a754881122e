"""Platform tables. Having this module also makes Django send post_migrate to
``platform_core``, which applies the db services' SQL migrations."""
