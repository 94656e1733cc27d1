from kontor_catalog.main import run

run()
