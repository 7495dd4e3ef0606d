"""The dashboard's panels, one module per area; each module's ``routes()`` lists its pages."""
