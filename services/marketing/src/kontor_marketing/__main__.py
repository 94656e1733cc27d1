from kontor_marketing.main import run

run()
