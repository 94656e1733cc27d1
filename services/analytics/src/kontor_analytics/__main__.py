from kontor_analytics.main import run

run()
