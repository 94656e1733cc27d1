from kontor_support.main import run

run()
