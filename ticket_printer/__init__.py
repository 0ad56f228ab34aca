"""Ticket layout and printing: the ticket as data (`TicketPrint`), its
512-dot raster (`layout`), ESC/POS through python-escpos (`escpos_out`),
printer URLs (`connections`), ``DLE EOT`` status (`status`), the PNG
preview (`preview`) and printing one ticket (`printing`).

The kiosk agent calls::

    from ticket_printer.printing import print_ticket, PrintOptions
    result = print_ticket("tcp://192.0.2.10:9100", ticket, PrintOptions())
    if result.printed: ...
"""
