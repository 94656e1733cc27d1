from kontor_orders.main import run

run()
