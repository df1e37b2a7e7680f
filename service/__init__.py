"""flopwise's service: an HTTP API over laws held in memory, a durable run store and a
job queue whose workers refit laws as runs arrive.

Layout (data flows top to bottom)::

    main.py            create_app(settings): builds the app, nothing else
    config.py          Settings: one BaseSettings, env prefix FLOPWISE_
    api/deps.py        Annotated dependencies (SettingsDep, DatabaseDep, RegistryDep, ...)
    api/routes/        one router per resource: queries (allocate, predict, frontier),
                       laws, runs, jobs (fits, jobs), calibrations, health (healthz, metrics)
    api/middleware.py  body-size limit, request metrics (plain ASGI)
    schemas/           request and response bodies (pydantic)
    answers.py         queries answered from ``fitting`` (+ a per-law-version answer cache)
    registry.py        laws in memory: built-in + published versions, refreshed by polling
    store/             SQLAlchemy: runs (idempotent ingestion), laws (versions), jobs (queue)
    migrations/        Alembic; the service migrates its store on start
    jobs/              worker (leases, heartbeats, commit), refit and calibration handlers
    cli/serve_cmd.py   ``flopwise serve`` and ``flopwise worker``

The service imports ``fitting`` and never ``trainer`` or torch: calibration sweeps run
the trainer as a separate process (``python -m trainer sweep ...``).
"""
