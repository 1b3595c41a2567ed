"""The dashboard: one static page (HTML, CSS, plain JavaScript in `static/`) that both front doors
serve without auth at `GET /` and `GET /assets/{file}`. The page signs in in the browser and reads
the JSON routes with the bearer token, so it needs nothing from the server but these files."""
