"""The data generators: deterministic Console, engagement and report data per organization and day.

They sit below the routes and never import them or the app; the app wires each generator in
(``simulator.app.DATA_FACTORIES``) and the routes read from them.
"""
