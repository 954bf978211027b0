"""timeloom's user interfaces: the command line and (later) the Textual app.

Importing this package must stay cheap and must not import Textual: the headless commands live
here too.
"""
