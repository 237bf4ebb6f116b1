"""Project wiring: settings, URLconfs for the public host and school sites, middleware, logging,
the embedded services and the dramatiq broker middleware. No business logic lives here."""
