"""The pure domain of the executor: task routing, performer lifecycle policy and the ports.

Nothing here performs I/O or imports an I/O library; adapters plug in through `ports`.
"""
