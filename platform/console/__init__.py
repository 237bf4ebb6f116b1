"""The operator console on the vendor's public host: views and templates for vendor staff, over the
services and selectors of the shared apps. Runs in the ``public`` schema."""
