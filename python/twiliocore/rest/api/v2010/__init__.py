"""Version 2010-04-01 of the api domain (``https://api.twilio.com/2010-04-01``)."""
