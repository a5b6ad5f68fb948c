"""The actions every face (the command line, the public pages, the admin app, the API) calls:
each takes the application object and plain values, and knows nothing of Typer or HTTP."""
