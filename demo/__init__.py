"""The demo and its launchers, apart from the product: ``make demo`` (``run``), ``make ui`` (``ui``), the
backfill helper both use (``backfill``) and the demo's settings (``settings``). They start the simulator on
loopback and drive the product's code location; the product never imports them."""
