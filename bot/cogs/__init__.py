"""The bot's features, one discord.py extension per module."""
