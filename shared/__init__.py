"""Lockstep's shared package: the pure room core and the edges around it (library, stores, service).

Both the web app and the Discord bot drive rooms only through this package.
"""
