"""flyte-backend-docker: run every task call in its own Docker container.

Modules: ``images`` builds ``flyte.Image`` specs (from ``dockerfile`` renderings and the
``wheelhouse`` of this checkout), ``bundle`` ships the user's code through the data store, and
``plugin`` registers the backend with flyte-core. Importing this package imports nothing else,
so containers can import the code bundle's extraction cheaply.
"""
