# Nothing to seed: posts are created through the app.
