"""The vendor's records of its clients (controller data, in ``public``): contracts, the people at
each school the vendor deals with, the log-in accounts clients register, correspondence and
complaints."""
